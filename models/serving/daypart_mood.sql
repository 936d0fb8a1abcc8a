{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Mood by daypart.
select * from {{ source('gold_delta', 'mart_daypart_mood') }}
