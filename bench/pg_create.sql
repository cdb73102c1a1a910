-- The statements of one create, in one transaction: the customer lookup and the insert.
-- (pgbench reads `:name` as a variable even inside literals, hence chr(58) for the colons of the secret.)
BEGIN;
SELECT id, reseller_id, name, description, reference, country_code, timezone, enabled, date_created, version
  FROM customers WHERE id = CAST(:customer AS uuid) AND reseller_id = CAST(:reseller AS uuid);
INSERT INTO pbx_profiles (id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, secrets, created_at, version)
  VALUES (gen_random_uuid(), CAST(:customer AS uuid), 'KazooPbxConnectionProfile', gen_random_uuid()::text, 'Bench', 'US', false,
          '{"hostRest": "https://rest.example.com", "hostWebsocket": "wss://ws.example.com", "monitorSubAccounts": false}',
          concat_ws(chr(58), 'v1', '00000000', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), now(), 1);
COMMIT;
