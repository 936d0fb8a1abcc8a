{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Listening sessions, as Spark wrote them.
select * from {{ source('gold_delta', 'fct_sessions') }}
