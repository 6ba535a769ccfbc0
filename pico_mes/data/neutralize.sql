-- A neutralized copy of the database never talks to the production PICO.
UPDATE res_company
   SET pico_enabled = false,
       pico_api_token = NULL,
       pico_webhook_secret = NULL,
       pico_webhook_secret_previous = NULL;
UPDATE pico_message SET state = 'failed', error = 'Neutralized database: not sent.'
 WHERE direction = 'out' AND state = 'pending';
