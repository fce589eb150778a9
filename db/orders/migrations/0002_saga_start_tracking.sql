ALTER TABLE "orders" ADD COLUMN "payment" jsonb;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "saga_started_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "orders_saga_not_started" ON "orders" USING btree ("created_at") WHERE "orders"."saga_started_at" is null;--> statement-breakpoint
-- Orders placed before this migration: their sagas were started by the request that placed them.
UPDATE "orders" SET "saga_started_at" = "created_at" WHERE "saga_started_at" IS NULL;
