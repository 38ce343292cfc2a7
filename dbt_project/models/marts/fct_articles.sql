with

articles as (

    select * from {{ ref('int_articles_clustered') }}

),

final as (

    select
        article_id,
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
        language_confidence,
        too_short,
        probably_not_article,
        paywalled

    from articles

)

select * from final
