import ArgumentParser
import Logging
import PlanWatchRuntime

/// Loads the handler plugins of a directory. One that fails to load is logged and left out —
/// the built-in handlers go on — unless the configuration marks it required.
enum PluginLoading {
    static func load(directory: String?, required: [String], logger: Logger) throws -> [PluginLibrary] {
        guard let directory else {
            if !required.isEmpty { throw ValidationError("plugins \(required) are required but no plugin directory is set") }
            return []
        }
        let paths: [String]
        do { paths = try PluginLibrary.candidates(in: directory) } catch {
            throw ValidationError("cannot read the plugin directory \(directory): \(error)")
        }
        var loaded: [PluginLibrary] = []
        for path in paths {
            do {
                let plugin = try PluginLibrary(path: path)
                loaded.append(plugin)
                logger.info(
                    "plugin loaded",
                    metadata: ["plugin": "\(plugin.name)", "handlerKit": "\(plugin.version)", "path": "\(path)",
                               "eventTypes": "\(plugin.eventTypes)"])
            } catch {
                let stem = path.split(separator: "/").last.map(String.init) ?? path
                if required.contains(where: { stem.contains($0) }) {
                    throw ValidationError("required plugin \(path) failed to load: \(error)")
                }
                logger.error("plugin not loaded; the built-in handlers go on", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        for name in required where !loaded.contains(where: { $0.name == name }) {
            throw ValidationError("required plugin '\(name)' was not found in \(directory) (loaded: \(loaded.map(\.name)))")
        }
        return loaded
    }
}
