-- The statement of one read of a profile: the profile row, if its customer is the caller's (one query, as the
-- service runs it since run 4; before, the customer lookup and the profile row were two statements). Since run 10
-- it reads only the columns a view shows: no secrets, no creation time.
SELECT id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, version
  FROM pbx_profiles
 WHERE id = CAST(:pbx AS uuid) AND customer_id = CAST(:customer AS uuid)
   AND customer_id IN (SELECT id FROM customers WHERE id = CAST(:customer AS uuid) AND reseller_id = CAST(:reseller AS uuid))
 LIMIT 1;
