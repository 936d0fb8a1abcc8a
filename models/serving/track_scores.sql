{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- Preference scores with the names a person reads.
with

scores as (
    select * from {{ source('gold_delta', 'ml_track_scores') }}
),

tracks as (
    select * from {{ source('gold_delta', 'dim_tracks') }}
),

final as (
    select
        scores.user_id,
        scores.track_id,
        scores.preference_score,
        tracks.track_name,
        tracks.primary_artist_name as artist_name,
        tracks.primary_genre as genre,
        tracks.valence,
        tracks.energy
    from scores
    left join tracks on scores.track_id = tracks.track_id
)

select * from final
