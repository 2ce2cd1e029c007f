package dev.pitlane.core

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

/** Paths in the repository and the environment of tests. */
object Repo {
    /** The repository root: system property pitlane.repo (set by the POM), else found upwards from here. */
    val root: Path by lazy {
        System.getProperty("pitlane.repo")?.let { return@lazy Paths.get(it).toAbsolutePath().normalize() }
        var dir: Path? = Paths.get("").toAbsolutePath()
        while (dir != null && !Files.exists(dir.resolve("go.mod"))) dir = dir.parent
        dir ?: error("cannot find the repository root (no go.mod above ${Paths.get("").toAbsolutePath()})")
    }

    /** The pitlane binary: env PITLANE_BIN, default <repo>/bin/pitlane. */
    val binary: Path get() = System.getenv("PITLANE_BIN")?.takeIf { it.isNotEmpty() }?.let { Paths.get(it) } ?: root.resolve("bin/pitlane")

    /** True when CI demands the Docker-backed tests run (PITLANE_REQUIRE_DOCKER=1). */
    val requireDocker: Boolean get() = System.getenv("PITLANE_REQUIRE_DOCKER") == "1"
}
