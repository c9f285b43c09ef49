DROP TABLE q_aid;
DROP TABLE q_visits;
DROP TABLE q_households;
