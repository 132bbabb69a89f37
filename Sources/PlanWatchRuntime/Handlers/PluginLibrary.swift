import Foundation
import HandlerKit
import HandlerPluginABI
import PlanWatchWire

/// A handler module built as a dynamic library, loaded with `dlopen` and called through
/// HandlerKit's plugin ABI (see ``HandlerKitPlugin``).
public final class PluginLibrary: @unchecked Sendable {
    typealias Call = @convention(c) (
        Int32, UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
        UnsafeMutablePointer<Int>?
    ) -> UnsafeMutableRawPointer?
    typealias Version = @convention(c) () -> UnsafePointer<CChar>

    /// The file it was loaded from.
    public let path: String
    /// The handler's name.
    public let name: String
    /// The HandlerKit version it was built with (equal to the daemon's).
    public let version: String
    public let eventTypes: [String]
    /// Event types the plugin adds, validated by the plugin.
    public let payloadTypes: [String]
    /// Its indicators and rules.
    public let manifest: HandlerManifest
    private let library: UnsafeMutableRawPointer
    private let call: Call

    /// Why a plugin could not be loaded.
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads a plugin and checks its HandlerKit version against the daemon's.
    public init(path: String) throws {
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError(description: "cannot load plugin \(path): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        guard let versionSymbol = dlsym(library, "planwatch_plugin_handlerkit_version"),
            let callSymbol = dlsym(library, "planwatch_plugin_call")
        else {
            // Not closed: unloading a library with Swift code in it is not safe; the handle
            // of a refused file is kept for the life of the process.
            throw LoadError(
                description:
                    "\(path) is not a PlanWatch plugin: it does not export planwatch_plugin_handlerkit_version and planwatch_plugin_call")
        }
        let pluginVersion = String(cString: unsafeBitCast(versionSymbol, to: Version.self)())
        guard pluginVersion == HandlerKitPlugin.versionString else {
            // Not closed: unloading a library with Swift code in it is not safe; the handle
            // of a refused file is kept for the life of the process.
            throw LoadError(
                description:
                    "plugin \(path) was built against HandlerKit \(pluginVersion), but this daemon has HandlerKit \(HandlerKitPlugin.versionString); rebuild the plugin against \(HandlerKitPlugin.versionString)"
            )
        }
        self.path = path
        self.library = library
        self.call = unsafeBitCast(callSymbol, to: Call.self)
        version = pluginVersion
        let instance = call(HandlerKitPlugin.Operation.create.rawValue, nil, nil, 0, nil, nil)
        let info = Self.invoke(call, .info, instance, [])
        _ = call(HandlerKitPlugin.Operation.destroy.rawValue, instance, nil, 0, nil, nil)
        guard case .object(let o)? = try? JSONParser.parse(info), case .string(let name)? = o["name"],
            case .array(let types)? = o["eventTypes"]
        else {
            throw LoadError(description: "plugin \(path) gave no valid description of itself")
        }
        self.name = name
        eventTypes = types.compactMap { if case .string(let t) = $0 { t } else { nil } }
        if case .array(let payload)? = o["payloadTypes"] {
            payloadTypes = payload.compactMap { if case .string(let t) = $0 { t } else { nil } }
        } else {
            payloadTypes = []
        }
        if let m = o["manifest"] {
            do { manifest = try JSONCoding.decode(HandlerManifest.self, from: JSONWriter.bytes(m)) } catch {
                throw LoadError(description: "plugin \(path) declares a manifest that does not read: \(error)")
            }
        } else {
            manifest = HandlerManifest()
        }
    }

    static func invoke(_ call: Call, _ op: HandlerKitPlugin.Operation, _ instance: UnsafeMutableRawPointer?, _ input: [UInt8]) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var count = 0
        _ = input.withUnsafeBufferPointer { call(op.rawValue, instance, $0.baseAddress, $0.count, &output, &count) }
        guard let output else { return [] }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: count))
    }

    func invoke(_ op: HandlerKitPlugin.Operation, _ instance: UnsafeMutableRawPointer?, _ input: [UInt8]) -> [UInt8] {
        Self.invoke(call, op, instance, input)
    }

    func makeInstance() -> UnsafeMutableRawPointer? { call(HandlerKitPlugin.Operation.create.rawValue, nil, nil, 0, nil, nil) }

    /// The payload validators of the plugin's event types: each asks the plugin.
    var payloadValidators: [String: PayloadValidator] {
        var validators: [String: PayloadValidator] = [:]
        for type in payloadTypes {
            validators[type] = PluginValidator(library: self, type: type).validator
        }
        return validators
    }

    /// The plugin's verdict on a payload of one of its types: nil when valid.
    func validationError(type: String, payload: JSONObject) -> String? {
        let request = JSONWriter.bytes(.object(["type": .string(type), "payload": .object(payload)]))
        let reply = invoke(.validate, nil, request)
        guard let parsed = try? JSONParser.parse(reply), case .object(let o) = parsed, case .string(let message)? = o["error"] else {
            return nil
        }
        return message
    }

    /// Every `*.so` in `directory`, in name order.
    public static func candidates(in directory: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            throw LoadError(
                description: "plugin directory \(directory) is not a folder: make it and copy the plugins there "
                    + "(e.g. libFinancePlugin.so, libDigitalInfrastructurePlugin.so from the build; .ci/demo makes var/plugins)")
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw LoadError(description: "plugin directory \(directory) cannot be read")
        }
        return names.filter { $0.hasSuffix(".so") }.sorted().map { "\(directory)/\($0)" }
    }
}

/// One plugin event type's payload validation, asking the plugin.
struct PluginValidator: Sendable {
    let library: PluginLibrary
    let type: String

    var validator: PayloadValidator {
        let (library, type) = (library, type)
        return { reader throws(Rejection) in
            try PluginValidator.check(library, type, reader)
        }
    }

    static func check(_ library: PluginLibrary, _ type: String, _ reader: FieldReader) throws(Rejection) {
        if let message = library.validationError(type: type, payload: reader.object) {
            throw Rejection(.schemaViolation, message)
        }
    }
}
