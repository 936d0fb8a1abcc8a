{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Runs of low-valence days, shown for reflection only.
select * from {{ source('gold_delta', 'mart_low_valence_streaks') }}
