-- The statements of one read of a profile: the customer lookup and the profile row.
SELECT id, reseller_id, name, description, reference, country_code, timezone, enabled, date_created, version
  FROM customers WHERE id = CAST(:customer AS uuid) AND reseller_id = CAST(:reseller AS uuid);
SELECT id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, secrets, created_at, version
  FROM pbx_profiles WHERE id = CAST(:pbx AS uuid) AND customer_id = CAST(:customer AS uuid);
