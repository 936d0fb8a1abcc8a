with

plays as (

    select * from {{ ref('int_plays_deduplicated') }}

),

final as (

    select
        user_id,
        source,
        drop_reason as reason,
        count(*) as dropped_rows
    from plays
    where drop_reason is not null
    group by user_id, source, drop_reason

)

select * from final
