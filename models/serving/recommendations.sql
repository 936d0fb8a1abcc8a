{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Mirror (more of where you are) and coach (a small step toward brighter valence/energy)
-- recommendations, with names and the features that the coach moves along.
with

recommendations as (
    select * from {{ source('gold_delta', 'ml_recommendations') }}
),

tracks as (
    select * from {{ source('gold_delta', 'dim_tracks') }}
),

final as (
    select
        recommendations.user_id,
        recommendations.mode,
        recommendations.rank,
        recommendations.track_id,
        recommendations.match_score,
        recommendations.improvement_score,
        recommendations.reason,
        recommendations.generated_at,
        tracks.track_name,
        tracks.primary_artist_name as artist_name,
        tracks.primary_genre as genre,
        tracks.valence,
        tracks.energy,
        tracks.mood_quadrant
    from recommendations
    left join tracks on recommendations.track_id = tracks.track_id
)

select * from final
