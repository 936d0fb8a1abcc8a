with

source as (

    select * from {{ source('spotify', 'listeners') }}

),

renamed as (

    select
        user_id,
        timezone,
        display_name,
        is_demo,
        _ingested_at as updated_at

    from source

)

select * from renamed
