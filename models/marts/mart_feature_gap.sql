{#- You vs the world, by audio feature: the distribution of each feature over a listener's plays
    against its distribution over the catalog's tracks (mean, quartiles), the gap in catalog
    standard deviations, and the share of the listener's plays above the catalog median (0.5 means
    no shift). -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

play_values as (

    select
        user_id,
        {{ unpivot_features(audio_features()) }}
    from plays
    where valence is not null

),

catalog_values as (

    select {{ unpivot_features(audio_features()) }}
    from tracks

),

catalog_stats as (

    select
        feature,
        avg(feature_value) as catalog_mean,
        stddev_samp(feature_value) as catalog_stddev,
        percentile(feature_value, 0.25) as catalog_p25,
        percentile(feature_value, 0.5) as catalog_median,
        percentile(feature_value, 0.75) as catalog_p75
    from catalog_values
    where feature_value is not null
    group by feature

),

user_stats as (

    select
        play_values.user_id,
        play_values.feature,
        count(*) as n_plays,
        avg(play_values.feature_value) as user_mean,
        percentile(play_values.feature_value, 0.25) as user_p25,
        percentile(play_values.feature_value, 0.5) as user_median,
        percentile(play_values.feature_value, 0.75) as user_p75,
        avg(
            case when play_values.feature_value > catalog_stats.catalog_median then 1.0 else 0.0 end
        ) as share_above_catalog_median
    from play_values
    inner join catalog_stats on play_values.feature = catalog_stats.feature
    where play_values.feature_value is not null
    group by play_values.user_id, play_values.feature

),

final as (

    select
        user_stats.user_id,
        user_stats.feature,
        cast(user_stats.n_plays as int) as n_plays,
        user_stats.user_mean,
        user_stats.user_p25,
        user_stats.user_median,
        user_stats.user_p75,
        catalog_stats.catalog_mean,
        catalog_stats.catalog_stddev,
        catalog_stats.catalog_p25,
        catalog_stats.catalog_median,
        catalog_stats.catalog_p75,
        user_stats.user_mean - catalog_stats.catalog_mean as mean_gap,
        (user_stats.user_mean - catalog_stats.catalog_mean)
        / nullif(catalog_stats.catalog_stddev, 0) as standardized_gap,
        cast(user_stats.share_above_catalog_median as double) as share_above_catalog_median

    from user_stats
    inner join catalog_stats on user_stats.feature = catalog_stats.feature

)

select * from final
