{#- Diagnostic: Pearson correlation of each audio feature with three outcomes, per listener,
    overall (daypart = 'all') and within each listener-local daypart:
      play_count  - tracks: feature vs how often the listener played the track (n = tracks)
      completion  - plays: feature vs completion_ratio (n = plays)
      skip        - plays: feature vs is_skipped as 0/1, a point-biserial r (n = plays)
    with n and a 95% confidence interval from Fisher's z transform. -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

featured_plays as (

    select * from plays
    where valence is not null

),

scoped_plays as (

    select
        *,
        daypart as scope
    from featured_plays

    union all

    select
        *,
        'all' as scope
    from featured_plays

),

track_counts as (

    select
        user_id,
        scope,
        track_id,
        {%- for feature in audio_features() %}
        max({{ feature }}) as {{ feature }},
        {%- endfor %}
        count(*) as plays
    from scoped_plays
    group by user_id, scope, track_id

),

play_pairs as (

    select
        user_id,
        scope,
        completion_ratio,
        case when is_skipped then 1.0 else 0.0 end as skipped,
        {{ unpivot_features(audio_features()) }}
    from scoped_plays

),

track_pairs as (

    select
        user_id,
        scope,
        cast(plays as double) as plays,
        {{ unpivot_features(audio_features()) }}
    from track_counts

),

pairs as (

    select
        user_id,
        scope,
        feature,
        'completion' as outcome,
        feature_value,
        completion_ratio as outcome_value
    from play_pairs

    union all

    select
        user_id,
        scope,
        feature,
        'skip' as outcome,
        feature_value,
        skipped as outcome_value
    from play_pairs

    union all

    select
        user_id,
        scope,
        feature,
        'play_count' as outcome,
        feature_value,
        plays as outcome_value
    from track_pairs

),

correlations as (

    select
        user_id,
        scope as daypart,
        feature,
        outcome,
        count_if(feature_value is not null and outcome_value is not null) as n,
        -- corr() can land a rounding hair outside [-1, 1] on a few points
        greatest(-1.0, least(1.0, corr(feature_value, outcome_value))) as r
    from pairs
    group by user_id, scope, feature, outcome

),

intervals as (

    select
        user_id,
        daypart,
        feature,
        outcome,
        cast(n as int) as n,
        cast(case when isnan(r) then null else r end as double) as r,
        cast({{ fisher_ci('r', 'n', 'low') }} as double) as ci_low,
        cast({{ fisher_ci('r', 'n', 'high') }} as double) as ci_high

    from correlations

),

final as (

    select
        *,
        coalesce(ci_low > 0 or ci_high < 0, false) as is_significant
    from intervals

)

select * from final
