{#- Descriptive: the mood of each listener-local daypart: mean valence/energy, quadrant shares,
    and the share of sessions that are high-energy (session mean energy >= mood_energy_threshold). -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

dayparts as (

    select distinct
        daypart,
        daypart_order
    from {{ ref('dayparts') }}

),

play_profile as (

    select
        user_id,
        daypart,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes,
        count(valence) as plays_with_features,
        avg(valence) as mean_valence,
        avg(energy) as mean_energy,
        avg(danceability) as mean_danceability,
        avg(acousticness) as mean_acousticness,
        avg(case when is_skipped then 1.0 else 0.0 end) as skip_rate,
        count_if(mood_quadrant = 'happy_energetic') as happy_energetic_plays,
        count_if(mood_quadrant = 'calm_content') as calm_content_plays,
        count_if(mood_quadrant = 'tense_angry') as tense_angry_plays,
        count_if(mood_quadrant = 'sad_low') as sad_low_plays
    from plays
    group by user_id, daypart

),

session_profile as (

    select
        user_id,
        daypart,
        count(*) as sessions,
        count_if(is_high_energy) as high_energy_sessions,
        count(mean_energy) as sessions_with_features
    from sessions
    group by user_id, daypart

),

final as (

    select
        play_profile.user_id,
        play_profile.daypart,
        cast(dayparts.daypart_order as int) as daypart_order,
        cast(play_profile.plays as int) as plays,
        cast(play_profile.minutes as double) as minutes,
        cast(coalesce(session_profile.sessions, 0) as int) as sessions,
        cast(coalesce(session_profile.high_energy_sessions, 0) as int) as high_energy_sessions,
        cast(
            session_profile.high_energy_sessions / nullif(session_profile.sessions_with_features, 0)
            as double
        ) as high_energy_session_share,
        cast(play_profile.plays_with_features as int) as plays_with_features,
        play_profile.mean_valence,
        play_profile.mean_energy,
        play_profile.mean_danceability,
        play_profile.mean_acousticness,
        cast(play_profile.skip_rate as double) as skip_rate,
        cast(
            play_profile.happy_energetic_plays / nullif(play_profile.plays_with_features, 0) as double
        ) as share_happy_energetic,
        cast(
            play_profile.calm_content_plays / nullif(play_profile.plays_with_features, 0) as double
        ) as share_calm_content,
        cast(
            play_profile.tense_angry_plays / nullif(play_profile.plays_with_features, 0) as double
        ) as share_tense_angry,
        cast(
            play_profile.sad_low_plays / nullif(play_profile.plays_with_features, 0) as double
        ) as share_sad_low,
        {{ mood_quadrant('play_profile.mean_valence', 'play_profile.mean_energy') }} as mean_mood_quadrant

    from play_profile
    left join session_profile
        on
            play_profile.user_id = session_profile.user_id
            and play_profile.daypart = session_profile.daypart
    left join dayparts on play_profile.daypart = dayparts.daypart

)

select * from final
