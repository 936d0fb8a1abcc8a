{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- SHAP contributions per scored track: which feature pushed the score up or down, and by how much.
with

explanations as (
    select * from {{ source('gold_delta', 'ml_track_explanations') }}
),

tracks as (
    select * from {{ source('gold_delta', 'dim_tracks') }}
),

final as (
    select
        explanations.user_id,
        explanations.track_id,
        explanations.rank,
        explanations.feature,
        explanations.value,
        explanations.contribution,
        abs(explanations.contribution) as abs_contribution,
        explanations.reason,
        tracks.track_name,
        tracks.primary_artist_name as artist_name
    from explanations
    left join tracks on explanations.track_id = tracks.track_id
)

select * from final
