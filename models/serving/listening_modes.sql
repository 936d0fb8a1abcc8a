{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- K-means listening modes.
select * from {{ source('gold_delta', 'ml_listening_modes') }}
