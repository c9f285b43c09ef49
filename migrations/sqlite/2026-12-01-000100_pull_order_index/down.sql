DROP INDEX records_pull_seq;
