{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Genre shares vs the catalog.
select * from {{ source('gold_delta', 'mart_genre_gap') }}
