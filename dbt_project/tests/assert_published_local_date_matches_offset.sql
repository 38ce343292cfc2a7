-- the publication day as stated agrees with the instant: with an offset, it is the day of
-- published_at shifted by that offset (a real one, UTC-12 to UTC+14); without one, the
-- date as written is at most a day from the UTC date; neither is set without published_at
-- (articles landed before the columns existed have NULL in both)

with

articles as (

    select * from {{ ref('fct_articles') }}
    {%- if night_scope_since() is not none %}
    -- a nightly build tests the rows of its window (macros/test_scope.sql)
    where last_run_date >= {{ night_scope_since() }}
    {%- endif %}

)

select
    article_id,
    published_at,
    published_utc_offset,
    published_local_date

from articles
where
    (published_at is null and published_local_date is not null)
    or (published_at is null and published_utc_offset is not null)
    or published_utc_offset not between -720 and 840
    or (
        published_utc_offset is not null
        and published_local_date
        != cast(timezone('UTC', published_at) + to_minutes(published_utc_offset) as date)
    )
    or (
        published_utc_offset is null
        and abs(date_diff('day', cast(timezone('UTC', published_at) as date), published_local_date))
        > 1
    )
