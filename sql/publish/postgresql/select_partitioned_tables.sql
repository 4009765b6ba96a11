SELECT c.relname FROM pg_class c WHERE c.relkind = 'p' AND c.relnamespace = current_schema()::regnamespace
