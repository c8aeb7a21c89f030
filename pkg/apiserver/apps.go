package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"skiff.dev/skiff/pkg/apis/apps"
	appsinstall "skiff.dev/skiff/pkg/apis/apps/install"
	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	"skiff.dev/skiff/pkg/registry/apps/deployment"
	"skiff.dev/skiff/pkg/registry/apps/replicaset"
)

func init() {
	appsinstall.Install(Scheme)
}

// installApps installs the apps.skiff.dev group: ReplicaSets and
// Deployments, with their status and scale subresources.
func (c CompletedConfig) installApps(s *genericapiserver.GenericAPIServer) error {
	storage, err := c.newAppsStorage()
	if err != nil {
		return err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(apps.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	group.NegotiatedSerializer = skiffCodecs
	group.VersionedResourcesStorageMap[appsv1alpha1.SchemeGroupVersion.Version] = storage
	if err := s.InstallAPIGroup(&group); err != nil {
		return fmt.Errorf("install API group %s: %w", apps.GroupName, err)
	}
	return nil
}

func (c CompletedConfig) newAppsStorage() (map[string]rest.Storage, error) {
	optsGetter := c.generic.RESTOptionsGetter
	replicaSets, err := replicaset.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	deployments, err := deployment.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	return map[string]rest.Storage{
		"replicasets":        replicaSets.ReplicaSet,
		"replicasets/status": replicaSets.Status,
		"replicasets/scale":  replicaSets.Scale,
		"deployments":        deployments.Deployment,
		"deployments/status": deployments.Status,
		"deployments/scale":  deployments.Scale,
	}, nil
}
