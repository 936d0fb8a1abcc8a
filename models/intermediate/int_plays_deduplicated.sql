{{ config(materialized='view') }}

{#- Every music play of every source with the reason it is dropped (null = kept). Rules, in order:
    1. the same record twice within a source (repeated export files, re-requested packages,
       overlapping API polls): same source_key -> keep the first landed;
    2. API polls: the same track again within +-30 s -> overlapping_poll;
    3. an account-data row that the extended export also has (same normalised artist + title,
       end within the minute precision of account data +-30 s) -> seen_in_extended_export;
    4. an API play that an export also has (same track id, or same names for account data, end
       within +-30 s) -> seen_in_export. -#}

with

plays as (

    select * from {{ ref('int_plays_unioned') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id, source, source_key
            order by ingested_at, record_hash
        ) as copy_rank
    from plays

),

first_copies as (

    select * from ranked
    where copy_rank = 1

),

api_sequenced as (

    select
        play_id,
        ended_at,
        lag(ended_at) over (
            partition by user_id, coalesce(source_track_id, concat(artist_key, '|', title_key))
            order by ended_at, record_hash
        ) as previous_ended_at
    from first_copies
    where source = 'api'

),

api_repeats as (

    select play_id
    from api_sequenced
    where previous_ended_at is not null
        and ended_at <= previous_ended_at + interval 30 seconds

),

survivors as (

    select first_copies.*
    from first_copies
    left anti join api_repeats on first_copies.play_id = api_repeats.play_id

),

account_in_extended as (

    select distinct account.play_id
    from survivors as account
    inner join survivors as extended
        on account.user_id = extended.user_id
            and account.artist_key = extended.artist_key
            and account.title_key = extended.title_key
    where account.source = 'export_account'
        and extended.source = 'export_extended'
        and extended.ended_at >= account.ended_at - interval 30 seconds
        and extended.ended_at < account.ended_at + interval 90 seconds

),

api_in_export as (

    select distinct api.play_id
    from survivors as api
    inner join survivors as export
        on api.user_id = export.user_id
            and (
                api.source_track_id = export.source_track_id
                or (
                    export.source_track_id is null
                    and api.artist_key = export.artist_key
                    and api.title_key = export.title_key
                )
            )
    where api.source = 'api'
        and export.source in ('export_extended', 'export_account')
        -- account data ends are truncated to the minute: allow the minute on top of +-30 s
        and unix_seconds(api.ended_at) between unix_seconds(export.ended_at) - 30
        and unix_seconds(export.ended_at)
        + case when export.source = 'export_account' then 90 else 30 end

),

final as (

    select
        ranked.*,
        case
            when ranked.copy_rank > 1 and ranked.source = 'api' then 'overlapping_poll'
            when ranked.copy_rank > 1 then 'duplicate_export_record'
            when api_repeats.play_id is not null then 'overlapping_poll'
            when account_in_extended.play_id is not null then 'seen_in_extended_export'
            when api_in_export.play_id is not null then 'seen_in_export'
        end as drop_reason
    from ranked
    left join api_repeats
        on ranked.play_id = api_repeats.play_id and ranked.copy_rank = 1
    left join account_in_extended
        on ranked.play_id = account_in_extended.play_id and ranked.copy_rank = 1
    left join api_in_export
        on ranked.play_id = api_in_export.play_id and ranked.copy_rank = 1

)

select * from final
