{#- Every landed catalog row, renamed and typed, whatever catalog it came from (Kaggle, TidyTuesday, ...).
    `catalog_name` names the catalog; rows landed before Bronze had that column fall back to their CSV
    layout (`source_layout`). Still one row per landed row: a catalog repeats a track once per genre or
    playlist, and several catalogs can list the same track id (int_catalog_tracks_ranked decides). -#}

with

source as (

    select * from {{ source('catalog', 'catalog_tracks') }}

),

renamed as (

    select
        track_id,
        coalesce(
            nullif(trim({{ optional_column(source('catalog', 'catalog_tracks'), 'catalog_name') }}), ''),
            source_layout
        ) as catalog_name,
        track_name,
        artists as artist_names,
        trim(split(artists, ';')[0]) as primary_artist_name,
        filter(transform(split(artists, ';'), artist -> trim(artist)), artist -> artist != '') as artist_name_list,
        album_name,
        album_id,
        album_release_date,
        cast(left(album_release_date, 4) as int) as album_release_year,
        popularity,
        duration_ms,
        explicit as is_explicit,
        {{ renamed_audio_columns() }},
        lower(trim(genre)) as genre,
        lower(trim(subgenre)) as subgenre,
        {{ optional_column(source('catalog', 'catalog_tracks'), 'artist_genres') }} as artist_genres_raw,
        playlist_name,
        playlist_id,
        source_layout,
        _source_file as source_file,
        _ingested_at as ingested_at,
        _record_hash as record_hash

    from source

),

final as (

    select
        *,
        -- "['acid jazz', 'techno']" (a Python list as text) -> array('acid jazz', 'techno'); also takes
        -- a bare "acid jazz, techno"
        filter(
            transform(
                split(
                    regexp_replace(trim(artist_genres_raw), '^\\[?\\s*[\\x27\\x22]?|[\\x27\\x22]?\\s*\\]?$', ''),
                    '[\\x27\\x22]?\\s*,\\s*[\\x27\\x22]?'
                ),
                artist_genre -> lower(trim(artist_genre))
            ),
            artist_genre -> artist_genre != ''
        ) as artist_genres
    from renamed

)

select * from final
