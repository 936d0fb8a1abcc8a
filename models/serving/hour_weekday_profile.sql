{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Plays by local hour and weekday.
select * from {{ source('gold_delta', 'mart_hour_weekday_profile') }}
