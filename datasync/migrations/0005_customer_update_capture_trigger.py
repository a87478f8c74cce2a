"""PostgreSQL: a customer's UPDATE is captured by a trigger on the customer table, inside the
UPDATE statement itself, instead of by three more statements from Python after it (the row
lock with its re-read, the notes and segments, the INSERT). SQLite keeps the Python
receiver (datasync.services.capture), which also stands in for a missing trigger.

What the trigger queues is what the receiver queued: an UPDATE record in the customer pending
queue, numbered from the capture sequence once the UPDATE holds the row's lock, in the
customer's lane (zlib's crc32 of "<subscriber id>/<customer id>", mod 64), with the JSON of
datasync.payloads.customer_json; only while the DataSyncEnabled system setting is stored as
"true" (read in the same statement, so a change by another process counts at once). The
function's INSERT takes a snapshot of its own (PL/pgSQL functions are volatile), so after
waiting for another transaction's lock on the row it reads that transaction's notes and
segments. tests/datasync/test_capture_trigger.py holds the two JSONs against each other.

PL/pgSQL, not a standard SQL body: its plans are cached per connection, where a SQL function
is planned again on every call (a third of a millisecond per save here). PostgreSQL does not
track which columns a PL/pgSQL body reads: a migration that renames or drops one of them must
replace this function too, or customer saves fail while Data Sync is enabled; the tests fail
first.
"""

from django.db import migrations


def _crc32_table() -> str:
    """zlib's CRC-32 table (polynomial 0xEDB88320), one entry per byte value."""
    entries = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        entries.append(crc)
    return ", ".join(str(value) for value in entries)


CRC32 = f"""
CREATE FUNCTION datasync_crc32(data bytea) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    crc_table CONSTANT bigint[] := ARRAY[{_crc32_table()}];
    crc bigint := 4294967295;
BEGIN
    FOR i IN 0 .. length(data) - 1 LOOP
        crc := (crc >> 8) # crc_table[((crc # get_byte(data, i)) & 255) + 1];
    END LOOP;
    RETURN crc # 4294967295;
END
$$
"""

TRIGGER_FUNCTION = """
CREATE FUNCTION datasync_customer_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM integration_hub_systemsetting
        WHERE key = 'DataSyncEnabled' AND value = 'true'
    ) THEN
        RETURN NULL;
    END IF;
    INSERT INTO datasync_cust_pending_queue (
        created_at, updated_at, object_name, unique_id, action, json_object, capture_order,
        subscriber_id, customer_key, lane
    ) VALUES (
        clock_timestamp(), clock_timestamp(), 'Customer', NEW.customer_id, 'UPDATE',
        jsonb_build_object(
            'customerID', NEW.customer_id,
            'signupDate', to_char(NEW.signup_date, 'YYYY-MM-DD'),
            'retailStoreID', NEW.subscriber_id::text,
            'customerClass', nullif(NEW.customer_class, ''),
            'prospect', NEW.prospect,
            'lastUpdateInfo',
                to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'entityInformation', jsonb_build_object('individual', jsonb_build_object(
                'name', jsonb_build_object('name', jsonb_build_array(
                    jsonb_build_object('location', 'FIRST', 'value', nullif(NEW.first_name, '')),
                    jsonb_build_object(
                        'location', 'MIDDLE', 'value', nullif(NEW.middle_name, '')
                    ),
                    jsonb_build_object('location', 'LAST', 'value', nullif(NEW.last_name, ''))
                )),
                'contactInformation', jsonb_build_object(
                    'address', CASE
                        WHEN NEW.street <> '' OR NEW.city <> '' OR NEW.postal_code <> ''
                            OR NEW.country_code <> ''
                        THEN jsonb_build_array(jsonb_build_object(
                            'addressLine1', nullif(NEW.street, ''),
                            'city', nullif(NEW.city, ''),
                            'postalCode', nullif(NEW.postal_code, ''),
                            'countryCode', nullif(NEW.country_code, '')
                        ))
                        ELSE '[]'::jsonb
                    END,
                    'telephone', CASE
                        WHEN NEW.phone <> ''
                        THEN jsonb_build_array(jsonb_build_object('number', NEW.phone))
                        ELSE '[]'::jsonb
                    END,
                    'email', CASE
                        WHEN NEW.email <> ''
                        THEN jsonb_build_array(jsonb_build_object('emailAddress', NEW.email))
                        ELSE '[]'::jsonb
                    END
                ),
                'personalSummary',
                    jsonb_build_object('languageCode', nullif(NEW.language_code, ''))
            )),
            'customerNotes', jsonb_build_object('customerNote', COALESCE(
                (
                    SELECT jsonb_agg(
                        jsonb_build_object('text', n.text) ORDER BY n.created_at, n.id
                    )
                    FROM integration_hub_customernote n
                    WHERE n.customer_id = NEW.id
                ),
                '[]'::jsonb
            )),
            'customerSegments', jsonb_build_object('segment', COALESCE(
                (
                    SELECT jsonb_agg(jsonb_build_object('name', s.name) ORDER BY s.name)
                    FROM integration_hub_customersegment m
                    JOIN integration_hub_segment s ON s.id = m.segment_id
                    WHERE m.customer_id = NEW.id
                ),
                '[]'::jsonb
            ))
        ),
        nextval('datasync_capture_seq'), NEW.subscriber_id, NEW.customer_id,
        datasync_crc32(convert_to(NEW.subscriber_id::text || '/' || NEW.customer_id, 'UTF8'))
            % 64
    );
    RETURN NULL;
END
$$
"""

TRIGGER = """
CREATE TRIGGER datasync_customer_updated
AFTER UPDATE ON integration_hub_customer
FOR EACH ROW
EXECUTE FUNCTION datasync_customer_updated()
"""

DROP = (
    "DROP TRIGGER IF EXISTS datasync_customer_updated ON integration_hub_customer",
    "DROP FUNCTION IF EXISTS datasync_customer_updated()",
    "DROP FUNCTION IF EXISTS datasync_crc32(bytea)",
)


def trigger_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in (CRC32, TRIGGER_FUNCTION, TRIGGER):
            schema_editor.execute(statement, params=None)


def trigger_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("datasync", "0004_queue_created_at_unindexed"),
        ("integration_hub", "0010_metric_totals"),
    ]

    operations = [migrations.RunPython(trigger_create, trigger_drop)]
