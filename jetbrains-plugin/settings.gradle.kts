// The IDE plugin. Its platform-free core (core/, built and tested with Maven)
// is compiled into the plugin from its sources, so there is one copy of it.
rootProject.name = "pitlane-jetbrains"

pluginManagement {
    repositories {
        gradlePluginPortal()
        mavenCentral()
    }
}
