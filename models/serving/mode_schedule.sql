{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Which listening mode dominates each local weekday x daypart (from the K-means modes).
with

schedule as (
    select * from {{ source('gold_delta', 'ml_mode_schedule') }}
),

final as (
    select
        *,
        cast(local_weekday as varchar) || ' '
        || element_at(array['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], local_weekday) as weekday_label
    from schedule
)

select * from final
