-- Tollgate's own database (audit log, delivery metrics). Temporal's are created by its schema job.
CREATE DATABASE tollgate;
