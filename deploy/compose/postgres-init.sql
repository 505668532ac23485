-- One login role per service, owning only its own schema; no service is a superuser and none
-- can create schemas or read another's. The postgres image runs this once, on an empty data
-- directory (docker-entrypoint-initdb.d), as the admin user, in POSTGRES_DB. The passwords
-- come from the compose secrets; `psql -v order_password=... -v payment_password=...` sets
-- them instead (the deploy tests do).
\set ON_ERROR_STOP on
\if :{?order_password}
\else
  \set order_password `cat /run/secrets/postgres_order_password`
\endif
\if :{?payment_password}
\else
  \set payment_password `cat /run/secrets/postgres_payment_password`
\endif
-- A secret that is missing or empty stops the script before it changes anything.
SELECT :'order_password' = '' OR :'payment_password' = '' AS password_missing \gset
\if :password_missing
  DO $$ BEGIN RAISE EXCEPTION 'a service password is missing or empty (postgres_order_password, postgres_payment_password)'; END $$;
\endif

-- Only the roles granted below may connect; nobody else may create anything in public.
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE ROLE order_service LOGIN PASSWORD :'order_password';
GRANT CONNECT ON DATABASE :"DBNAME" TO order_service;
CREATE SCHEMA orders AUTHORIZATION order_service;

CREATE ROLE payment_service LOGIN PASSWORD :'payment_password';
GRANT CONNECT ON DATABASE :"DBNAME" TO payment_service;
CREATE SCHEMA payments AUTHORIZATION payment_service;
