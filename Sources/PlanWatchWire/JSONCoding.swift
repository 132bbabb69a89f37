import Foundation
import PlanWatchModel

/// Codable values to and from JSON bytes, keys sorted (for checkpoints and the plugin ABI).
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [UInt8](try encoder.encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// A Codable value as a ``JSONValue``.
    public static func value<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONParser.parse(try encode(value))
    }
}
