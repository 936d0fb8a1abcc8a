{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Daily mood.
select * from {{ source('gold_delta', 'mart_daily_mood') }}
