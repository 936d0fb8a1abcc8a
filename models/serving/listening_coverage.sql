{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Catalog coverage per listener, year and match level (the matching ladder).
select * from {{ source('gold_delta', 'mart_listening_coverage') }}
