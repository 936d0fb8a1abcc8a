{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- The top 20 artists and tracks per listener that the catalogs do not match at track level.
select * from {{ source('gold_delta', 'mart_unmatched_top') }}
