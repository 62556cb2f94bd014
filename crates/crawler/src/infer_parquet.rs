//! Parquet: the schema is in the file's footer, so no rows are sampled. Only the
//! footer is read (the `parquet` crate without arrow and without codecs).
//!
//! Type mapping (Hive spellings Glue uses): BOOLEAN → `boolean`; INT32 → `int`
//! (`tinyint`/`smallint` for 8/16-bit integers, `date` for DATE, `decimal(p,s)`);
//! INT64 → `bigint` (`timestamp` for TIMESTAMP, `decimal(p,s)`); INT96 → `timestamp`;
//! FLOAT → `float`; DOUBLE → `double`; BYTE_ARRAY → `string` for STRING/ENUM/JSON,
//! `decimal(p,s)`, else `binary`; FIXED_LEN_BYTE_ARRAY → `decimal(p,s)` or `binary`;
//! LIST groups → `array<…>`; MAP groups → `map<k,v>`; other groups → `struct<…>`; a
//! repeated field outside a LIST → `array<…>`.

use std::fs::File;
use std::path::Path;

use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::Type;

use crate::types::HiveType;

/// What a Parquet footer says about its table.
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetSample {
    /// Columns and types.
    pub columns: Vec<(String, HiveType)>,
    /// Rows in the file (from the footer).
    pub records: u64,
}

/// Reads the schema of the Parquet file at `path`.
pub fn sample(path: &Path) -> Result<ParquetSample, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| format!("{} is not a readable Parquet file: {e}", path.display()))?;
    let metadata = reader.metadata().file_metadata();
    let columns = metadata
        .schema()
        .get_fields()
        .iter()
        .map(|field| (field.name().to_lowercase(), field_type(field, false)))
        .collect();
    Ok(ParquetSample {
        columns,
        records: u64::try_from(metadata.num_rows()).unwrap_or(0),
    })
}

/// The Hive type of a schema field; `element` ignores its repetition (it is the
/// element of an enclosing list already).
fn field_type(field: &Type, element: bool) -> HiveType {
    let info = field.get_basic_info();
    let repeated = info.has_repetition() && info.repetition() == Repetition::REPEATED;
    let base = if field.is_group() {
        group_type(field)
    } else {
        primitive_type(field)
    };
    if repeated && !element {
        HiveType::Array(Box::new(base))
    } else {
        base
    }
}

fn group_type(group: &Type) -> HiveType {
    let info = group.get_basic_info();
    let logical = info.logical_type_ref();
    let converted = info.converted_type();
    let fields = group.get_fields();
    let is_list = matches!(logical, Some(LogicalType::List)) || converted == ConvertedType::LIST;
    let is_map = matches!(logical, Some(LogicalType::Map))
        || matches!(converted, ConvertedType::MAP | ConvertedType::MAP_KEY_VALUE);
    if is_list && let [repeated] = fields {
        // Three-level lists wrap the element in a one-field repeated group; legacy
        // two-level lists repeat the element itself (parquet-format LogicalTypes.md).
        let legacy = repeated.name() == "array" || repeated.name().ends_with("_tuple");
        let element = match repeated.get_fields() {
            [only] if repeated.is_group() && !legacy => field_type(only, true),
            _ => field_type(repeated, true),
        };
        return HiveType::Array(Box::new(element));
    }
    if is_map
        && let [entries] = fields
        && let [key, value] = entries.get_fields()
    {
        return HiveType::Named(format!(
            "map<{},{}>",
            field_type(key, true),
            field_type(value, true)
        ));
    }
    HiveType::Struct(
        fields
            .iter()
            .map(|f| (f.name().to_lowercase(), field_type(f, false)))
            .collect(),
    )
}

fn primitive_type(field: &Type) -> HiveType {
    let info = field.get_basic_info();
    let decimal = || {
        HiveType::Named(format!(
            "decimal({},{})",
            field.get_precision(),
            field.get_scale()
        ))
    };
    let named = |s: &str| HiveType::Named(s.to_string());
    let logical = info.logical_type_ref();
    let converted = info.converted_type();
    if matches!(logical, Some(LogicalType::Decimal { .. })) || converted == ConvertedType::DECIMAL {
        return decimal();
    }
    match field.get_physical_type() {
        Physical::BOOLEAN => HiveType::Boolean,
        Physical::INT32 => match (logical, converted) {
            (Some(LogicalType::Date), _) | (_, ConvertedType::DATE) => named("date"),
            (Some(LogicalType::Integer { bit_width: 8, .. }), _)
            | (_, ConvertedType::INT_8 | ConvertedType::UINT_8) => named("tinyint"),
            (Some(LogicalType::Integer { bit_width: 16, .. }), _)
            | (_, ConvertedType::INT_16 | ConvertedType::UINT_16) => named("smallint"),
            _ => HiveType::Int,
        },
        Physical::INT64 => match (logical, converted) {
            (Some(LogicalType::Timestamp { .. }), _)
            | (_, ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIMESTAMP_MICROS) => {
                HiveType::Timestamp
            }
            _ => HiveType::BigInt,
        },
        Physical::INT96 => HiveType::Timestamp,
        Physical::FLOAT => named("float"),
        Physical::DOUBLE => HiveType::Double,
        Physical::BYTE_ARRAY => match (logical, converted) {
            (Some(LogicalType::String | LogicalType::Enum | LogicalType::Json), _)
            | (_, ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON) => {
                HiveType::String
            }
            _ => named("binary"),
        },
        Physical::FIXED_LEN_BYTE_ARRAY => named("binary"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    use super::*;

    const SCHEMA: &str = "message spark_schema {
        required int64 id;
        optional binary name (STRING);
        optional double price;
        optional int32 day (DATE);
        optional int64 at (TIMESTAMP(MILLIS,true));
        optional fixed_len_byte_array(8) amount (DECIMAL(12,2));
        optional group tags (LIST) { repeated group list { optional binary element (STRING); } }
        optional group attrs (MAP) { repeated group key_value {
            required binary key (STRING); optional int32 value; } }
        optional group geo { optional float lat; optional boolean ok; }
        repeated int32 legacy;
    }";

    #[test]
    fn footer_schema_maps_to_hive_types() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("part-0.parquet");
        let schema = Arc::new(parse_message_type(SCHEMA).expect("schema"));
        let file = File::create(&path).expect("create");
        let props = Arc::new(WriterProperties::builder().build());
        let writer = SerializedFileWriter::new(file, schema, props).expect("writer");
        writer.close().expect("close");

        let sample = sample(&path).expect("parquet");
        let rendered: Vec<(String, String)> = sample
            .columns
            .iter()
            .map(|(n, t)| (n.clone(), t.to_string()))
            .collect();
        let expected: Vec<(String, String)> = [
            ("id", "bigint"),
            ("name", "string"),
            ("price", "double"),
            ("day", "date"),
            ("at", "timestamp"),
            ("amount", "decimal(12,2)"),
            ("tags", "array<string>"),
            ("attrs", "map<string,int>"),
            ("geo", "struct<lat:float,ok:boolean>"),
            ("legacy", "array<int>"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(rendered, expected);
        assert_eq!(sample.records, 0);
        let not_parquet = dir.path().join("x.parquet");
        std::fs::write(&not_parquet, b"id,name\n").expect("write");
        assert!(super::sample(&not_parquet).is_err());
    }
}
