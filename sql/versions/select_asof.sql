SELECT * FROM {view}
WHERE period = :period AND version_from <= :version
    AND (version_to IS NULL OR version_to > :version)
