{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- The catalog with audio features; the reference population for "you vs the world".
select * from {{ source('gold_delta', 'dim_tracks') }}
