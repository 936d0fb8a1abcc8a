{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Recommendation lists as ml/recommend.py writes them (mirror, coach, discovery, world), plus the
-- catalog's mood quadrant so a chart can show where each suggestion sits on the mood plane.
with

recommendations as (
    select * from {{ source('gold_delta', 'ml_recommendations') }}
),

tracks as (
    select
        track_id,
        mood_quadrant
    from {{ source('gold_delta', 'dim_tracks') }}
),

final as (
    select
        recommendations.*,
        tracks.mood_quadrant
    from recommendations
    left join tracks on recommendations.track_id = tracks.track_id
)

select * from final
