// resolve_settings: sources, precedence, escaping, ARGOCD_APP_PARAMETERS, bad values.
#include <map>

#include <gtest/gtest.h>

#include "common/render/settings.hpp"

namespace {

using namespace common::render;
using namespace std::chrono_literals;
using common::util::ErrorKind;
using Vars = std::map<std::string, std::string>;

EnvLookup lookup(const Vars& vars) {
  return [&vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

Settings resolve(const Vars& vars) {
  auto got = resolve_settings(lookup(vars));
  EXPECT_TRUE(got) << got.error().message;
  return got ? *got : Settings{};
}

TEST(Settings, Defaults) {
  const Vars vars = {{"ARGOCD_APP_NAME", "web"},
                     {"ARGOCD_APP_NAMESPACE", "prod"},
                     {"KUBE_VERSION", "1.29.0"},
                     {"KUBE_API_VERSIONS", "v1,apps/v1,apps/v1/Deployment"}};
  const Settings s = resolve(vars);
  EXPECT_TRUE(s.specs.value.empty());
  EXPECT_EQ(s.specs.source, Source::default_value);
  EXPECT_FALSE(s.keep_specs.value);
  EXPECT_EQ(s.render.value, RenderMode::auto_detect);
  EXPECT_EQ(s.include.value, (std::vector<std::string>{"*.yaml", "*.yml", "*.json", "*.jsonnet"}));
  EXPECT_TRUE(s.exclude.value.empty());
  EXPECT_FALSE(s.recurse.value) << "Argo CD's directory.recurse is off by default";
  EXPECT_EQ(s.helm_release_name.value, "web");
  EXPECT_EQ(s.helm_release_name.source, Source::default_value);
  EXPECT_EQ(s.helm_release_name.origin, "ARGOCD_APP_NAME");
  EXPECT_EQ(s.helm_namespace.value, "prod");
  EXPECT_TRUE(s.helm_values_files.value.empty());
  EXPECT_TRUE(s.helm_parameters.value.empty());
  EXPECT_EQ(s.kube_version.value, "1.29.0");
  EXPECT_EQ(s.kube_api_versions.value,
            (std::vector<std::string>{"v1", "apps/v1", "apps/v1/Deployment"}));
  EXPECT_FALSE(s.pin_digests.value);
  EXPECT_EQ(s.registries_conf.value, "");
  EXPECT_EQ(s.secrets_dir.value, "");
  EXPECT_EQ(s.cache_dir.value, "");
  EXPECT_EQ(s.cache_ttl.value, 2min);
  EXPECT_EQ(s.timeout.value, 30s);
  EXPECT_EQ(s.parallel.value, 4u);
  EXPECT_TRUE(s.unknown_parameters.empty());

  const Settings bare = resolve({});
  EXPECT_EQ(bare.helm_release_name.value, "");
  EXPECT_TRUE(bare.kube_api_versions.value.empty());
}

TEST(Settings, Precedence) {
  // Each row adds a higher source for `render`; the highest present wins.
  struct Case {
    Vars vars;
    RenderMode want;
    Source source;
    std::string origin;
  };
  const std::vector<Case> cases = {
      {{}, RenderMode::auto_detect, Source::default_value, ""},
      {{{"IMAGEUPDATER_RENDER", "plain"}},
       RenderMode::plain,
       Source::environment,
       "IMAGEUPDATER_RENDER"},
      {{{"IMAGEUPDATER_RENDER", "plain"}, {"ARGOCD_ENV_IMAGEUPDATER_RENDER", "helm"}},
       RenderMode::helm,
       Source::plugin_env,
       "ARGOCD_ENV_IMAGEUPDATER_RENDER"},
      {{{"IMAGEUPDATER_RENDER", "plain"},
        {"ARGOCD_ENV_IMAGEUPDATER_RENDER", "helm"},
        {"PARAM_RENDER", "kustomize"}},
       RenderMode::kustomize,
       Source::parameter,
       "PARAM_RENDER"},
      {{{"PARAM_RENDER", "kustomize"},
        {"ARGOCD_APP_PARAMETERS", R"([{"name":"render","string":"Plain"}])"}},
       RenderMode::plain,
       Source::parameter,
       "ARGOCD_APP_PARAMETERS"},
      // Empty values fall through to the next source.
      {{{"IMAGEUPDATER_RENDER", "helm"},
        {"ARGOCD_ENV_IMAGEUPDATER_RENDER", ""},
        {"PARAM_RENDER", ""},
        {"ARGOCD_APP_PARAMETERS", R"([{"name":"render","string":""}])"}},
       RenderMode::helm,
       Source::environment,
       "IMAGEUPDATER_RENDER"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Settings s = resolve(cases[i].vars);
    EXPECT_EQ(s.render.value, cases[i].want) << i;
    EXPECT_EQ(s.render.source, cases[i].source) << i;
    EXPECT_EQ(s.render.origin, cases[i].origin) << i;
  }
}

TEST(Settings, Escaping) {
  struct Case {
    std::string name;
    std::string escaped;
  };
  const std::vector<Case> cases = {
      {"render", "RENDER"},
      {"helm-values-files", "HELM_VALUES_FILES"},
      {"image.tag", "IMAGE_TAG"},
      {"a/b c:d_e9", "A_B_C_D_E9"},
      {"\xc3\xbcn\xc3\xaf", "__N__"}, // every byte of a multi-byte character
      {"", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(escape_param(c.name), c.escaped) << c.name;
  }
  EXPECT_EQ(param_variable("helm-values-files"), "PARAM_HELM_VALUES_FILES");
  EXPECT_EQ(env_variable("cache-ttl"), "IMAGEUPDATER_CACHE_TTL");
  EXPECT_EQ(plugin_env_variable("cache-ttl"), "ARGOCD_ENV_IMAGEUPDATER_CACHE_TTL");
}

TEST(Settings, EverySettingFromEverySource) {
  // Every setting of the table is read under its three variable names.
  const std::map<std::string, std::string> sample = {
      {"specs", "a.yaml"},
      {"keep-specs", "true"},
      {"render", "helm"},
      {"include", "*.yaml"},
      {"exclude", "x.yaml"},
      {"recurse", "false"},
      {"helm-release-name", "rel"},
      {"helm-namespace", "ns"},
      {"helm-values-files", "v.yaml"},
      {"helm-parameters", "k=v"},
      {"helm-string-parameters", "s=1"},
      {"helm-skip-crds", "true"},
      {"kube-version", "1.30.1"},
      {"kube-api-versions", "v1"},
      {"jsonnet-ext-vars", "a=b"},
      {"jsonnet-ext-code", "c=1+1"},
      {"jsonnet-tlas", "t=x"},
      {"jsonnet-tla-code", "u=true"},
      {"jsonnet-libs", "lib"},
      {"pin-digests", "true"},
      {"allow-empty", "true"},
      {"strict", "true"},
      {"log-level", "debug"},
      {"argocd-namespace", "cd"},
      {"kustomize-build-options", "--enable-helm"},
      {"render-timeout", "5s"},
      {"registries-conf", "/r"},
      {"secrets-dir", "/s"},
      {"cache-dir", "/c"},
      {"cache-ttl", "5m"},
      {"timeout", "10s"},
      {"parallel", "8"},
  };
  ASSERT_EQ(sample.size(), setting_table().size());
  for (const auto& info : setting_table()) {
    const std::string name(info.name);
    ASSERT_TRUE(sample.contains(name)) << name;
    for (const auto& var : {param_variable(name), plugin_env_variable(name), env_variable(name)}) {
      if (info.kind == SettingKind::map && var.starts_with("PARAM_")) {
        continue; // maps come from ARGOCD_APP_PARAMETERS only
      }
      const Vars vars = {{var, sample.at(name)}};
      if (info.scope == Scope::operator_only && var != env_variable(name)) {
        // The Application may not set what belongs to the operator.
        auto refused = resolve_settings(lookup(vars));
        ASSERT_FALSE(refused) << name << " from " << var;
        EXPECT_NE(refused.error().message.find("setting " + name + " is operator configuration"),
                  std::string::npos)
            << refused.error().message;
        EXPECT_NE(refused.error().message.find(var), std::string::npos) << refused.error().message;
        continue;
      }
      const Settings s = resolve(vars);
      bool found = false;
      for (const auto& line : describe(s)) {
        if (line.starts_with(name + "=") && line.find(var) != std::string::npos) {
          found = true;
        }
      }
      EXPECT_TRUE(found) << name << " from " << var;
    }
  }
  // And the values are typed as expected.
  Vars all;
  for (const auto& [name, value] : sample) {
    all[env_variable(name)] = value;
  }
  const Settings s = resolve(all);
  EXPECT_EQ(s.specs.value, std::vector<std::string>{"a.yaml"});
  EXPECT_TRUE(s.keep_specs.value);
  EXPECT_EQ(s.render.value, RenderMode::helm);
  EXPECT_FALSE(s.recurse.value);
  EXPECT_EQ(s.helm_parameters.value, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_TRUE(s.pin_digests.value);
  EXPECT_EQ(s.cache_ttl.value, 5min);
  EXPECT_EQ(s.timeout.value, 10s);
  EXPECT_EQ(s.parallel.value, 8u);
  EXPECT_EQ(s.cache_dir.value, "/c");
  EXPECT_TRUE(s.helm_skip_crds.value);
  EXPECT_EQ(s.helm_string_parameters.value, (std::map<std::string, std::string>{{"s", "1"}}));
  EXPECT_EQ(s.jsonnet_ext_code.value, (std::map<std::string, std::string>{{"c", "1+1"}}));
  EXPECT_EQ(s.jsonnet_libs.value, std::vector<std::string>{"lib"});
  EXPECT_TRUE(s.allow_empty.value);
  EXPECT_TRUE(s.strict.value);
  EXPECT_EQ(s.log_level.value, "debug");
  EXPECT_EQ(s.argocd_namespace.value, "cd");
  EXPECT_EQ(s.kustomize_build_options.value, "--enable-helm");
}

TEST(Settings, LogLevelFromEverySourceAndInfoByDefault) {
  struct Case {
    Vars vars;
    std::string level;
    Source source;
  };
  const std::vector<Case> cases = {
      {{}, "info", Source::default_value}, // debug lines off by default
      {{{"IMAGEUPDATER_LOG_LEVEL", "error"}}, "error", Source::environment},
      {{{"ARGOCD_ENV_IMAGEUPDATER_LOG_LEVEL", "Warn"}, {"IMAGEUPDATER_LOG_LEVEL", "error"}},
       "warn",
       Source::plugin_env},
      {{{"PARAM_LOG_LEVEL", "debug"}, {"ARGOCD_ENV_IMAGEUPDATER_LOG_LEVEL", "warn"}},
       "debug",
       Source::parameter},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"log-level","string":"debug"}])"}},
       "debug",
       Source::parameter},
  };
  for (const Case& c : cases) {
    const Settings s = resolve(c.vars);
    EXPECT_EQ(s.log_level.value, c.level);
    EXPECT_EQ(s.log_level.source, c.source) << c.level;
  }
  auto bad = resolve_settings(lookup({{"PARAM_LOG_LEVEL", "loud"}}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(bad.error().message.find("log-level"), std::string::npos) << bad.error().message;
}

TEST(Settings, ArgoCdSendsNullForNoParameters) {
  // A plugin source without parameters (plugin: {}, env only): Argo CD marshals a nil slice.
  for (const char* text : {"null", " null\n", "[]", ""}) {
    auto got =
        resolve_settings(lookup({{"ARGOCD_APP_PARAMETERS", text}, {"ARGOCD_APP_NAME", "web"}}));
    ASSERT_TRUE(got) << text << ": " << got.error().message;
    EXPECT_TRUE(got->unknown_parameters.empty());
    EXPECT_EQ(got->render.value, RenderMode::auto_detect);
  }
  auto absent = resolve_settings(lookup({{"ARGOCD_APP_NAME", "web"}}));
  ASSERT_TRUE(absent);
  for (const char* text : {"{}", "\"x\"", "nul"}) {
    EXPECT_FALSE(resolve_settings(lookup({{"ARGOCD_APP_PARAMETERS", text}}))) << text;
  }
}

TEST(Settings, OperatorSettingsRefusedFromTheApplication) {
  // ARGOCD_APP_PARAMETERS, PARAM_*, ARGOCD_ENV_*: all written by the app team.
  const std::vector<Vars> attempts = {
      {{"ARGOCD_APP_PARAMETERS", R"([{"name":"registries-conf","string":"regs.conf"}])"}},
      {{"PARAM_SECRETS_DIR", "/var/run/secrets"}},
      {{"ARGOCD_ENV_IMAGEUPDATER_CACHE_DIR", "/tmp/x"}},
      {{"ARGOCD_ENV_IMAGEUPDATER_KUSTOMIZE_BUILD_OPTIONS", "--enable-alpha-plugins --enable-exec"}},
      {{"PARAM_ARGOCD_NAMESPACE", "team-b"}},
      {{"PARAM_TIMEOUT", "0"}},
  };
  for (const auto& vars : attempts) {
    auto got = resolve_settings(lookup(vars));
    ASSERT_FALSE(got) << vars.begin()->first;
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(got.error().message.find("operator configuration"), std::string::npos)
        << got.error().message;
  }
  // The sidecar's own environment sets them.
  const Settings s = resolve({{"IMAGEUPDATER_REGISTRIES_CONF", "/etc/iu/registries.conf"}});
  EXPECT_EQ(s.registries_conf.value, "/etc/iu/registries.conf");
  EXPECT_EQ(s.registries_conf.source, Source::environment);
}

TEST(Settings, AppIdentity) {
  struct Case {
    std::string app_name;
    std::string control_plane;
    std::string name, ns;
  };
  const std::vector<Case> cases = {
      {"web", "argocd", "web", "argocd"},
      {"team-a_web", "argocd", "web", "team-a"},
      {"team-a_web.v2", "argocd", "web.v2", "team-a"},
      {"web", "cd", "web", "cd"},
      {"", "argocd", "", "argocd"},
  };
  for (const auto& c : cases) {
    auto got = parse_app_identity(c.app_name, c.control_plane);
    ASSERT_TRUE(got) << c.app_name << ": " << got.error().message;
    EXPECT_EQ(got->name, c.name) << c.app_name;
    EXPECT_EQ(got->namespace_, c.ns) << c.app_name;
    EXPECT_EQ(got->instance, c.app_name);
  }
  for (const char* bad : {"Team_web", "a_", "_web", "a_b_c", "x_-web", "web/../x"}) {
    auto got = parse_app_identity(bad, "argocd");
    EXPECT_FALSE(got) << bad;
  }
  // The release name is the bare name; the namespace part is the Application's namespace.
  const Settings s = resolve({{"ARGOCD_APP_NAME", "team-a_web"}});
  EXPECT_EQ(s.helm_release_name.value, "web");
  EXPECT_EQ(s.app.namespace_, "team-a");
  auto bad = resolve_settings(lookup({{"ARGOCD_APP_NAME", "Bad_Name"}}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ARGOCD_APP_NAME"), std::string::npos);
}

TEST(Settings, Arrays) {
  struct Case {
    Vars vars;
    std::vector<std::string> want;
    std::string origin;
  };
  const std::vector<Case> cases = {
      {{{"PARAM_SPECS_0", "a.yaml"}, {"PARAM_SPECS_1", "b.yaml"}, {"PARAM_SPECS_3", "gap"}},
       {"a.yaml", "b.yaml"},
       "PARAM_SPECS_0"},
      {{{"PARAM_SPECS", "a.yaml, b.yaml,,"}}, {"a.yaml", "b.yaml"}, "PARAM_SPECS"},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"specs","array":["x.yaml"," y.yaml ",""]}])"},
        {"PARAM_SPECS_0", "ignored"}},
       {"x.yaml", "y.yaml"},
       "ARGOCD_APP_PARAMETERS"},
      // An array parameter given as a string is comma-separated.
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"specs","string":"p.yaml,q.yaml"}])"}},
       {"p.yaml", "q.yaml"},
       "ARGOCD_APP_PARAMETERS"},
      // An empty array falls through.
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"specs","array":[]}])"},
        {"ARGOCD_ENV_IMAGEUPDATER_SPECS", "e.yaml"}},
       {"e.yaml"},
       "ARGOCD_ENV_IMAGEUPDATER_SPECS"},
      {{{"IMAGEUPDATER_SPECS", "one.yaml,two.yml"}}, {"one.yaml", "two.yml"}, "IMAGEUPDATER_SPECS"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Settings s = resolve(cases[i].vars);
    EXPECT_EQ(s.specs.value, cases[i].want) << i;
    EXPECT_EQ(s.specs.origin, cases[i].origin) << i;
  }
}

TEST(Settings, Maps) {
  struct Case {
    Vars vars;
    std::map<std::string, std::string> want;
    Source source;
  };
  const std::vector<Case> cases = {
      {{{"ARGOCD_APP_PARAMETERS",
         R"([{"name":"helm-parameters","map":{"image.tag":"v1.2.3","a":"x,y"}}])"}},
       {{"a", "x,y"}, {"image.tag", "v1.2.3"}},
       Source::parameter},
      // PARAM_HELM_PARAMETERS_IMAGE_TAG lost the key's spelling: not read.
      {{{"PARAM_HELM_PARAMETERS_IMAGE_TAG", "v1"}}, {}, Source::default_value},
      {{{"ARGOCD_ENV_IMAGEUPDATER_HELM_PARAMETERS", "image.tag=v2, replicas = 3 ,x=a=b"}},
       {{"image.tag", "v2"}, {"replicas", " 3"}, {"x", "a=b"}},
       Source::plugin_env},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Settings s = resolve(cases[i].vars);
    EXPECT_EQ(s.helm_parameters.value, cases[i].want) << i;
    EXPECT_EQ(s.helm_parameters.source, cases[i].source) << i;
  }
}

TEST(Settings, FullArgoParameters) {
  // As Argo CD sets it: the reference's example plus strings, and a name that is no setting.
  const Vars vars = {
      {"ARGOCD_APP_PARAMETERS",
       R"([{"name":"helm-values-files","array":["values-dev.yaml"]},)"
       R"({"name":"helm-parameters","map":{"image.tag":"v1.2.3"}},)"
       R"({"name":"keep-specs","string":"true"},{"name":"typo-setting","string":"x"},)"
       R"({"name":"typo-setting","string":"y"}])"},
      {"PARAM_HELM_VALUES_FILES_0", "values-dev.yaml"},
      {"PARAM_HELM_PARAMETERS_IMAGE_TAG", "v1.2.3"},
      {"PARAM_KEEP_SPECS", "true"},
  };
  const Settings s = resolve(vars);
  EXPECT_EQ(s.helm_values_files.value, std::vector<std::string>{"values-dev.yaml"});
  EXPECT_EQ(s.helm_parameters.value, (std::map<std::string, std::string>{{"image.tag", "v1.2.3"}}));
  EXPECT_TRUE(s.keep_specs.value);
  EXPECT_EQ(s.unknown_parameters, std::vector<std::string>{"typo-setting"});
}

TEST(Settings, BadValues) {
  struct Case {
    Vars vars;
    std::vector<std::string> message_parts;
  };
  const std::vector<Case> cases = {
      {{{"PARAM_KEEP_SPECS", "yes"}}, {"keep-specs", "parameter PARAM_KEEP_SPECS", "\"yes\""}},
      {{{"ARGOCD_ENV_IMAGEUPDATER_RECURSE", "1"}},
       {"recurse", "plugin env ARGOCD_ENV_IMAGEUPDATER_RECURSE", "\"1\"", "true or false"}},
      {{{"IMAGEUPDATER_RENDER", "jsonnet"}},
       {"render", "environment IMAGEUPDATER_RENDER", "\"jsonnet\"", "kustomize"}},
      {{{"IMAGEUPDATER_PIN_DIGESTS", "TRUE "}, {"IMAGEUPDATER_CACHE_TTL", "2 minutes"}},
       {"cache-ttl", "IMAGEUPDATER_CACHE_TTL", "\"2 minutes\""}},
      {{{"IMAGEUPDATER_TIMEOUT", "-1s"}}, {"timeout", "negative"}},
      {{{"IMAGEUPDATER_PARALLEL", "0"}}, {"parallel", "1 to 64"}},
      {{{"IMAGEUPDATER_PARALLEL", "65"}}, {"parallel", "\"65\""}},
      {{{"IMAGEUPDATER_HELM_PARAMETERS", "a=1,novalue"}},
       {"helm-parameters", "key=value", "\"novalue\""}},
      {{{"ARGOCD_APP_PARAMETERS", "[{"}}, {"ARGOCD_APP_PARAMETERS", "not JSON", "\"[{\""}},
      {{{"ARGOCD_APP_PARAMETERS", R"({"name":"x"})"}}, {"ARGOCD_APP_PARAMETERS", "list"}},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"string":"x"}])"}}, {"ARGOCD_APP_PARAMETERS", "\"name\""}},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"specs","array":[1]}])"}},
       {"ARGOCD_APP_PARAMETERS", "specs", "not a string"}},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"render","array":["helm"]}])"}},
       {"render", "ARGOCD_APP_PARAMETERS", "not a string"}},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"specs","map":{"a":"b"}}])"}},
       {"specs", "not a list"}},
      {{{"ARGOCD_APP_PARAMETERS", R"([{"name":"helm-parameters","array":["a=b"]}])"}},
       {"helm-parameters", "not a map"}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto got = resolve_settings(lookup(cases[i].vars));
    ASSERT_FALSE(got) << i;
    EXPECT_EQ(got.error().kind, ErrorKind::invalid_input) << i;
    for (const auto& part : cases[i].message_parts) {
      EXPECT_NE(got.error().message.find(part), std::string::npos)
          << i << ": " << part << " not in: " << got.error().message;
    }
  }
}

TEST(Settings, BoolsAnyCase) {
  const Settings s = resolve({{"PARAM_PIN_DIGESTS", "True"}, {"PARAM_RECURSE", " FALSE"}});
  EXPECT_TRUE(s.pin_digests.value);
  EXPECT_FALSE(s.recurse.value);
}

TEST(Settings, TableAndDescribe) {
  // Names are unique, kebab-case, and every one has a description.
  std::vector<std::string> names;
  for (const auto& info : setting_table()) {
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_EQ(info.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz-"), std::string::npos);
    names.emplace_back(info.name);
  }
  auto sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  const Settings s = resolve({{"ARGOCD_ENV_IMAGEUPDATER_RENDER", "kustomize"}});
  const auto lines = describe(s);
  ASSERT_EQ(lines.size(), names.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_TRUE(lines[i].starts_with(names[i] + "=")) << lines[i];
  }
  EXPECT_EQ(lines[2], "render=kustomize (plugin env ARGOCD_ENV_IMAGEUPDATER_RENDER)");
  EXPECT_EQ(lines[29], "cache-ttl=120s (default)");
  EXPECT_EQ(to_string(SettingKind::boolean), std::string("bool"));
}

} // namespace
