{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Diagnostic correlations.
select * from {{ source('gold_delta', 'mart_feature_correlations') }}
