with

articles as (

    select * from {{ ref('int_articles_clustered') }}

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
        source_id,
        story_id,
        is_story_origin,
        duplicate_of_article_id,
        duplicate_score,
        derived_from_article_id,
        derivation_score,
        story_similarity,
        url,
        canonical_url,
        title,
        published_at,
        published_utc_offset,
        published_local_date,
        language,
        word_count,
        body,
        authors,
        description,
        site_name,
        content_hash,
        first_seen_at,
        last_seen_at,
        listed_at,
        modified_at,
        dateline,
        credits,
        dateline_agency,
        extraction_path,
        language_confidence,
        too_short,
        probably_not_article,
        paywalled,
        coalesce(ner_statuses.ner_status, 'not_analysed') as ner_status

    from articles
    left join ner_statuses on articles.article_id = ner_statuses.article_id

)

select * from final
