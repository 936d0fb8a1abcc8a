{{ config(materialized='table') }}

{#- The artist-level rung of the matching ladder: per normalised artist key (normalize_artist), the
    mean audio features of that artist's catalog tracks that have features (energy and valence), with
    the number of tracks. Primary credit preferred: when the artist is the first-listed artist of at
    least one such track, only those tracks count (estimate_basis 'primary'); otherwise every track
    that credits the artist anywhere (estimate_basis 'credited'). An estimate of what the artist tends
    to sound like, never a track's features: fct_plays keeps it in separate artist_est_* columns. -#}

{%- set features = audio_features() %}

with

tracks as (

    select * from {{ ref('int_tracks_deduplicated') }}
    where has_audio_features

),

credits as (

    select
        track_id,
        {%- for feature in features %}
        {{ feature }},
        {%- endfor %}
        posexplode(transform(split(artist_names, ';'), artist -> trim(artist))) as (artist_position, artist_name)
    from tracks

),

credit_keys as (

    select
        *,
        {{ normalize_artist('artist_name') }} as artist_key
    from credits

),

keyed as (

    select
        *,
        max(case when artist_position = 0 then 1 else 0 end) over (partition by artist_key) as has_primary
    from credit_keys
    where artist_key is not null

),

counted as (

    select
        artist_key,
        max(has_primary) = 1 as is_primary_basis,
        min_by(artist_name, artist_position) as artist_name,
        {%- for feature in features %}
        avg({{ feature }}) as {{ feature }},
        {%- endfor %}
        count(distinct track_id) as n_tracks
    from keyed
    where artist_position = 0 or has_primary = 0
    group by artist_key

),

final as (

    select
        artist_key,
        artist_name,
        case when is_primary_basis then 'primary' else 'credited' end as estimate_basis,
        {%- for feature in features %}
        cast({{ feature }} as double) as {{ feature }},
        {%- endfor %}
        cast(n_tracks as int) as n_tracks
    from counted

)

select * from final
