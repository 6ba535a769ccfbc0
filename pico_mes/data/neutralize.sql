-- A neutralized copy of the database never talks to the production PICO.
UPDATE res_company
   SET pico_enabled = false,
       pico_api_token = NULL,
       pico_webhook_secret = NULL,
       pico_webhook_secret_previous = NULL,
       -- PICO stays held, even once enabled again, until an administrator
       -- confirms a new order prefix (a neutralized copy keeps database.uuid)
       pico_identity_database_uuid = 'neutralized';
UPDATE pico_message SET state = 'failed', error = 'Neutralized database: not sent.'
 WHERE direction = 'out' AND state = 'pending';
