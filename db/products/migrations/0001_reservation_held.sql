ALTER TABLE "reservations" ADD COLUMN "held" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- Reservations from before this column: every one that is not RELEASED held its units.
UPDATE "reservations" SET "held" = true WHERE "status" <> 'RELEASED';
