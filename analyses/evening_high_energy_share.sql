-- Seed question: what share of each listener's evening sessions are high-energy
-- (session mean energy >= mood_energy_threshold)?

with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

final as (

    select
        user_id,
        count(*) as evening_sessions,
        count_if(is_high_energy) as high_energy_sessions,
        round(count_if(is_high_energy) / count(mean_energy), 3) as high_energy_share
    from sessions
    where daypart = 'evening'
    group by user_id

)

select * from final
