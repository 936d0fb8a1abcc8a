{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Year in review.
select * from {{ source('gold_delta', 'mart_yearly_recap') }}
