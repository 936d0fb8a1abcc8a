-- SCD2 invariant: each catalog track has exactly one current version (dbt_valid_to is null).
select
    track_id,
    count(*) as current_versions
from {{ ref('snap_catalog_tracks') }}
where dbt_valid_to is null
group by track_id
having count(*) <> 1
