{{ config(materialized='table') }}

{#- One row per track id and catalog: the catalog's own best row for the id, ranked against the other
    catalogs that list the same id. The precedence, per track id (the same order within a catalog picks
    the catalog's row, across catalogs it picks the winner, catalog_rank = 1):
      1. the most non-null audio features (the `audio_features()` var list, 9 columns);
      2. the newest load (`ingested_at` desc);
      3. catalog_name ascending (then record_hash, so the choice is deterministic).
    Genres are counted per catalog here (a catalog repeats an id once per genre / playlist); the union
    across catalogs is int_tracks_deduplicated's job. Values are never averaged across rows. -#}

{%- set features = audio_features() %}

with

catalog_rows as (

    select * from {{ ref('stg_catalog__tracks') }}

),

scored as (

    select
        *,
        {%- for feature in features %}
        cast({{ feature }} is not null as int){{ ' +' if not loop.last }}
        {%- endfor %} as feature_count
    from catalog_rows

),

row_ranked as (

    select
        *,
        row_number() over (
            partition by track_id, catalog_name
            order by feature_count desc, ingested_at desc, record_hash asc
        ) as row_rank,
        count(*) over (partition by track_id, catalog_name) as catalog_rows
    from scored

),

genre_counts as (

    select
        track_id,
        catalog_name,
        genre,
        count(*) as genre_rows
    from catalog_rows
    where genre is not null
    group by track_id, catalog_name, genre

),

genre_ranked as (

    select
        *,
        row_number() over (
            partition by track_id, catalog_name order by genre_rows desc, genre asc
        ) as genre_rank
    from genre_counts

),

catalog_genres as (

    select
        track_id,
        catalog_name,
        sort_array(collect_list(genre)) as genres,
        max(case when genre_rank = 1 then genre end) as primary_genre
    from genre_ranked
    group by track_id, catalog_name

),

catalog_artist_genres as (

    select
        track_id,
        catalog_name,
        sort_array(array_distinct(flatten(collect_list(artist_genres)))) as artist_genres
    from catalog_rows
    where artist_genres is not null
    group by track_id, catalog_name

),

best_rows as (

    select * from row_ranked
    where row_rank = 1

),

final as (

    select
        best_rows.track_id,
        best_rows.catalog_name,
        row_number() over (
            partition by best_rows.track_id
            order by best_rows.feature_count desc, best_rows.ingested_at desc, best_rows.catalog_name asc
        ) as catalog_rank,
        best_rows.feature_count,
        best_rows.catalog_rows,
        best_rows.track_name,
        best_rows.artist_names,
        best_rows.primary_artist_name,
        best_rows.album_name,
        best_rows.album_release_year,
        best_rows.popularity,
        best_rows.duration_ms,
        best_rows.is_explicit,
        {%- for feature in features %}
        best_rows.{{ feature }},
        {%- endfor %}
        best_rows.musical_key,
        best_rows.musical_mode,
        best_rows.time_signature,
        catalog_genres.primary_genre,
        coalesce(catalog_genres.genres, array()) as genres,
        coalesce(catalog_artist_genres.artist_genres, array()) as artist_genres,
        best_rows.source_layout,
        best_rows.ingested_at,
        best_rows.record_hash

    from best_rows
    left join catalog_genres
        on
            best_rows.track_id = catalog_genres.track_id
            and best_rows.catalog_name = catalog_genres.catalog_name
    left join catalog_artist_genres
        on
            best_rows.track_id = catalog_artist_genres.track_id
            and best_rows.catalog_name = catalog_artist_genres.catalog_name

)

select * from final
