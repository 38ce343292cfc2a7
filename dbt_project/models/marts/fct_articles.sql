-- incremental: the articles a night in the lookback window changed, and every article of
-- a story it touched (macros/incremental_scope.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_incremental_scope('article_id', 'scope_story_articles', 'last_run_date', live=ref('stg_landing__articles')) }}"
    )
}}

-- depends_on: {{ ref('stg_landing__articles') }}
-- depends_on: {{ ref('stg_landing__article_stories') }}
-- depends_on: {{ ref('stg_landing__article_entities') }}
-- depends_on: {{ ref('stg_landing__entity_mentions') }}
-- depends_on: {{ ref('stg_landing__story_merges') }}
-- depends_on: {{ ref('int_story_merges_resolved') }}

{%- set since = incremental_since('last_run_date') %}

with

{% if since is not none -%}
{{ incremental_scope_ctes(since) }}
{%- endif %}

articles as (

    select * from {{ ref('int_articles_clustered') }}
    {%- if since is not none %}
    where article_id in (select article_id from scope_story_articles)
    {%- endif %}

),

analysed as (

    select * from {{ ref('int_article_entities_latest') }}

),

ner_statuses as (

    select
        article_id,
        ner_status

    from analysed

),

final as (

    select
        articles.article_id,
        articles.source_id,
        articles.story_id,
        articles.is_story_origin,
        articles.duplicate_of_article_id,
        articles.duplicate_score,
        articles.derived_from_article_id,
        articles.derivation_score,
        articles.story_similarity,
        articles.url,
        articles.canonical_url,
        articles.title,
        articles.published_at,
        articles.published_utc_offset,
        articles.published_local_date,
        articles.language,
        articles.word_count,
        articles.body,
        articles.authors,
        articles.description,
        articles.site_name,
        articles.content_hash,
        articles.first_seen_at,
        articles.last_seen_at,
        articles.listed_at,
        articles.modified_at,
        articles.dateline,
        articles.credits,
        articles.dateline_agency,
        articles.extraction_path,
        articles.language_confidence,
        articles.too_short,
        articles.probably_not_article,
        articles.paywalled,
        coalesce(ner_statuses.ner_status, 'not_analysed') as ner_status,
        articles.run_date as last_run_date

    from articles
    left join ner_statuses on articles.article_id = ner_statuses.article_id

)

select * from final
