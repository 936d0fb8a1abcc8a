{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- The listener's audio-feature profile against the catalog's.
select * from {{ source('gold_delta', 'mart_feature_gap') }}
