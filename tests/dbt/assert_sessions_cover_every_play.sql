-- Every play belongs to exactly one session of its own listener: per listener, the plays counted
-- in fct_sessions equal the rows of fct_plays, and no session mixes listeners.
with

plays as (

    select
        user_id,
        count(*) as plays
    from {{ ref('fct_plays') }}
    group by user_id

),

sessions as (

    select
        user_id,
        sum(plays) as plays
    from {{ ref('fct_sessions') }}
    group by user_id

),

mixed as (

    select
        session_id,
        count(distinct user_id) as listeners
    from {{ ref('fct_plays') }}
    group by session_id
    having count(distinct user_id) > 1

),

final as (

    select
        coalesce(plays.user_id, sessions.user_id) as user_id,
        'plays and session sizes differ' as problem
    from plays
    full outer join sessions on plays.user_id = sessions.user_id
    where plays.plays is distinct from sessions.plays

    union all

    select
        session_id as user_id,
        'session spans listeners' as problem
    from mixed

)

select * from final
